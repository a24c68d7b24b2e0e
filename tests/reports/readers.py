"""Who may read a strategy's documents, per persona: the status a download answers with.

The rule is ``funding.permissions``'s: everyone who works for a participating municipality,
and the superuser; the outsider is refused.
"""

STRATEGY_READERS = [
    ("admin", 200),
    ("koordinator", 200),
    ("uradnik.sezana", 200),
    ("uradnik.komen", 200),
    ("svetnik.sezana", 200),
    ("referent.sezana", 200),
    ("zunanji", 403),
]
