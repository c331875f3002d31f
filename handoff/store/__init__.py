"""Where everything the gateway keeps is stored: the interface every backend implements,
SQLite (the embedded default) and PostgreSQL (several gateways), the schema migrations,
and which backend a setting picks (backends.open_stores)."""
