"""Knowledge-base retrieval: multilingual embeddings + FAISS + answer/clarify/abstain."""
