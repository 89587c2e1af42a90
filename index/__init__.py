"""Embeddings, the vector index and keyword search of xuncha."""
