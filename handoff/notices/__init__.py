"""Notices for outages and maintenance: a banner in the widget, a line in the bot's greeting
and before answers on the topics they affect (model.py, loader.py, board.py, routes.py)."""
