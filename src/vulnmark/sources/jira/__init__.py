"""The Jira source: settings and errors, the HTTP client, paging, the resumable sync, label
write-back, the webhook handler and the one JQL builder (Cloud REST v3 and Data Center REST v2)."""
