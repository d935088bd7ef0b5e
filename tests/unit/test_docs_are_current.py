"""The committed OpenAPI and AsyncAPI documents are the ones the code generates."""

from deploy.docs import contracts


def test_committed_contract_documents_match_the_code():
    stale = [str(path) for path, text in contracts().items() if not path.exists() or path.read_text() != text]
    assert not stale, f"regenerate with `python -m deploy.docs`: {stale}"
