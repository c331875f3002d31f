"""The customer side: the routes the widget calls (HTTP and websocket), the identity a
host site may vouch for, and what the gateway itself says to customers in ko/ja/en."""
