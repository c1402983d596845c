"""``python -m chainsim.chain``: regenerate the documents' chain blocks from the table."""

from chainsim.chain.steps import write_documents

write_documents()
