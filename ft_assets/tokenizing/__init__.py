"""Turning split examples into a tokenized Hugging Face DatasetDict."""
