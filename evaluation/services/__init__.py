"""Domain operations: verb-named functions that validate, write and (through the audit
hook) log. Views call these; these never touch the request."""
