"""Staff pages of upgrade asks: the list, writing one (filters, texts, preview, count,
send) and one ask's figures. Editors and admins send; every role may look."""
