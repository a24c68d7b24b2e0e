"""``makemessages`` without fuzzy matching.

msgmerge's guesses gave new strings the translations of unrelated old ones ("Rounding" →
"Financiranje"); a new string should stay untranslated until someone translates it.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
