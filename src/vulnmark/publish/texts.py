"""The page's texts, one catalogue per language (``lang/<code>.toml``): whole sentences with
``{placeholders}`` for the policy's values, so each language words them its own way.

English is the reference: every catalogue has exactly its keys and a text for every preset
(tests/publish/test_texts.py), and a page takes all its texts from one catalogue, so no page
mixes languages.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vulnmark.errors import PublishError


class Lang(enum.StrEnum):
    """``--lang`` choices and ``publish.lang`` values."""

    EN = "en"
    HU = "hu"
    DE = "de"
    FR = "fr"

    @classmethod
    def parse(cls, code: str, where: str = "--lang") -> Lang:
        try:
            return cls(code.strip().lower())
        except ValueError:
            choices = ", ".join(lang.value for lang in cls)
            raise PublishError(f"{where}: unknown language {code!r}; choose one of: "
                               f"{choices}") from None


@dataclass(frozen=True)
class Texts:
    """One language's catalogue."""

    lang: Lang
    strings: dict[str, str]
    presets: dict[str, str]
    """Preset name -> what the framework requires, in this language."""

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    def number(self, value: float) -> str:
        """``value`` without a needless ``.0``, with this language's decimal separator."""
        text = f"{value:g}" if value != int(value) else str(int(value))
        return text.replace(".", self.strings["decimal"])

    def score(self, value: float) -> str:
        """A CVSS score as CVSS writes it (one decimal), with this language's separator."""
        return f"{value:.1f}".replace(".", self.strings["decimal"])


@cache
def texts(lang: Lang) -> Texts:
    raw = tomllib.loads(resources.files("vulnmark.publish").joinpath(
        "lang", f"{lang.value}.toml").read_text(encoding="utf-8"))
    presets = raw.pop("presets")
    return Texts(lang, {k: str(v) for k, v in raw.items()}, dict(presets))
