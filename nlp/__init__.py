"""NLP stages of xuncha: parse → normalise → understand → segment → tag."""
