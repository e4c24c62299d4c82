"""Long-term memory on chromadb."""
