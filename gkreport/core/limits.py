"""Reading limits: a plan or a returned form is small; a hostile or broken file must not
exhaust memory or time. Refused, not cut, when over them: rows silently dropped would break
"nothing is lost"."""

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLS = 60
