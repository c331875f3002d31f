"""The help centre at /help: the knowledge base's articles as server-rendered pages for
customers (ko/ja/en), with categories, search (full text here, by meaning from the action
server) and "was this helpful?" votes that count with the bot's in the supervisor's
analytics. Wired into the gateway by `routes.setup_helpcentre_routes`."""
