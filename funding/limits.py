"""How much an import file may hold: the one home of the limits every import applies.

Spreadsheets (CSV and XLSX, read by ``funding.imports.read_table`` for the admin's import pages
and the ``import_*`` commands) and strategy documents (``funding.exchange``) are checked against
these limits while they are read, before anything larger than the limit is kept, so that a small
hostile file (a cell in a sheet's last row, a sheet declaring the whole grid, millions of blank
lines, a hundred-megabyte cell) is refused in words within a moment and a few megabytes.

The limits are far above real use: the largest strategy so far has 375 associations with four
categories over five years, 7,500 budget lines; officers' files are a few hundred rows.
"""

# 5 MB holds some 50,000 CSV lines and keeps a mistaken upload (a database dump, a photo) from
# being parsed at all.
MAX_FILE_BYTES = 5 * 1024 * 1024
# An XLSX is a ZIP archive: 5 MB of it may unpack to gigabytes. 100,000 typical rows unpack to
# some 35 MB; the archive's own directory gives the sizes before anything is unpacked.
MAX_UNPACKED_BYTES = 10 * MAX_FILE_BYTES
# Data rows below the header; blank rows count, as they are read and numbered.
MAX_ROWS = 100_000
# The widest import has eight columns.
MAX_COLUMNS = 50
# The most an Excel cell holds: whatever a spreadsheet program saves (and the export writes) is
# imported; text fields without a length of their own (notes, descriptions) get this one.
MAX_CELL_CHARS = 32_767
# A strategy document (strategy/v1 JSON) is a few hundred kilobytes; refuse anything far larger.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# A strategy document's prose (an introduction, an association's presentation: 17,000 characters
# in the demo strategy); its other texts have their fields' own lengths.
MAX_TEXT_CHARS = 100_000
