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

# Action plans are national documents: every role that may view them reads all of them,
# whatever its municipalities (Velenje's and Kranj's users too); the outsider has no role.
_PLAN_ROLES = "admin koordinator uradnik.sezana uradnik.komen svetnik.sezana referent.sezana"
ACTION_PLAN_READERS = [
    *((username, 200) for username in f"{_PLAN_ROLES} uradnik.velenje svetnik.kranj".split()),
    ("zunanji", 403),
]
