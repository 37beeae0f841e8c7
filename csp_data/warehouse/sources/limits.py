"""What a published file may plausibly contain: the limits ingest checks before anything lands.

Every limit is documented in data/sources/SOURCES.md ("Ingest limits") and tried by a test in
tests/test_ingest_limits.py. They are deliberately generous: a real file never comes near them,
an impossible one is refused with a message that names the limit.
"""

from __future__ import annotations

# --- size: checked while streaming, before any file is parsed -----------------------------------

# The offered file as given (compressed or not). A police.uk Met-wide month is ~20 MB as CSV.
MAX_INPUT_BYTES = 1 << 30  # 1 GiB
# The content after decompression: a plain file's size, a .gz's inflated size, or the sum of the
# inflated sizes of the members of a zip that ingest reads. ~12 Met-wide months of street crime.
MAX_CONTENT_BYTES = 256 << 20  # 256 MiB
# A saved police.uk API response (JSON is parsed whole, so its limit is lower). One API query
# returns at most 10,000 crimes (~7 MB); a borough month is ~4,000.
MAX_JSON_BYTES = 64 << 20  # 64 MiB
# Lines (CSV rows) or JSON records per file. A Met-wide police.uk street month has ~100,000 rows
# and a London-wide MPS file ~110,000; a year of Met-wide street data is ~1.2 million.
MAX_ROWS = 1_000_000
# Members of a zip archive (a police.uk archive of all forces for 3 years has ~5,000; ingest takes
# one force's files: split larger archives).
MAX_ZIP_MEMBERS = 2_000

# --- counts ------------------------------------------------------------------------------------

# No count for one borough (or any smaller area) in one month may exceed ten times the largest
# monthly total of recorded offences any London borough has ever had: 9,509 (Westminster,
# December 2023, embedded MPS borough files). Applies to every MPS cell (area x category x
# month), to a borough's month total in any MPS file, and to the rows a police.uk file has in the
# borough in one month. tests/test_ingest_limits.py recomputes the 9,509 from the embedded data.
LARGEST_BOROUGH_MONTH = 9_509
AREA_MONTH_CEILING = 10 * LARGEST_BOROUGH_MONTH

# --- months ------------------------------------------------------------------------------------

# The first month each source has ever published. Months before these are refused, as are
# months after the current month (no publisher publishes the future).
EARLIEST_MONTH = {
    "mps_wide_borough": "2008-01",  # MPS recorded crime on the London Datastore starts Jan 2008
    "mps_wide_ward": "2008-01",
    "mps_wide_lsoa": "2008-01",
    "mps_dashboard": "2008-01",
    "mps_business_offences": "2008-01",
    "policeuk_street": "2010-12",  # police.uk street-level crime starts December 2010
    "policeuk_outcomes": "2010-12",
    "policeuk_stop_search": "2014-01",  # police.uk stop and search starts in 2014 (Met: 2015-04 held)
}

# --- truncation --------------------------------------------------------------------------------

# A month the new file would replace may not shrink by more than this fraction of what the
# warehouse holds for the same partitions (rows, or offences for MPS files), unless --force:
# a truncated download looks exactly like that. Months holding fewer than SHRINK_MIN_HELD are
# not judged (small numbers move a lot between snapshots).
SHRINK_LIMIT = 0.20
SHRINK_MIN_HELD = 50
