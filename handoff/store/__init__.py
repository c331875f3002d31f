"""Where everything the gateway keeps is stored: the interface every backend implements,
SQLite (the embedded default) and PostgreSQL (several gateways), the schema migrations,
which backend a setting picks (backends.open_stores), and how the parts that share state
through Redis carry on while it is away (redis_outage)."""
