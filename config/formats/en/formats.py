"""English formats; dates stay day-first because the documents are Slovenian."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
