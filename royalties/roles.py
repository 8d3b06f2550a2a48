"""A payee's part in a sale, in the words a creator uses. The split resolver's roles
(royalties/splits.py) with what the line keeps beside them: a co-creator's own role on the
sheet ("colourist"), or the title of the work a sold work derives from."""

ROLE_WORDS = {
    "creator": "Creator",
    "co_creator": "Co-creator",
    "upstream": "Creator of the original",
    "upstream_co_creator": "Co-creator of the original",
    "platform": "Platform fee",
    "unmatched": "Credited on chain (role not known to the portal)",
}


def role_words(role: str, party_role: str = "") -> str:
    """'Co-creator: colourist'; 'Creator of the original, “Evening lake”'; 'Creator'."""
    words = ROLE_WORDS.get(role, role.replace("_", " ").capitalize())
    if not party_role:
        return words
    if role == "upstream":  # the line keeps the original's title
        return f"{words}, “{party_role}”"
    return f"{words}: {party_role}"
