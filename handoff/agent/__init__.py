"""The agent side: the console's routes (sign-in, queue, accept, chat, resolve, tickets),
sign-in throttling and password hashing, suggested answers, and the supervisors' pages
(live view, analytics, unanswered topics)."""
