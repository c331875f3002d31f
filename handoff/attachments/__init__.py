"""Files customers and agents send in a conversation: images and PDFs (issue 14 item 5).

model.py: what the store keeps; sniffing.py: what a file is, from its bytes; upload.py:
reading a multipart upload with the size cap enforced while reading; routes.py: the
customer and agent routes.
"""
