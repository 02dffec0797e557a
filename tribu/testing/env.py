"""pytest plugin, loaded with -p before Django starts: tests never touch ./data.

Unless the caller chose a data directory, each test run gets a fresh one.
"""

import os
import tempfile

os.environ.setdefault("TRIBU_DATA_DIR", tempfile.mkdtemp(prefix="tribu-test-"))
# The accurate sentiment tier loads a 70 MB encoder and reads ~30 texts a second: tests that
# need it turn it on themselves (settings.TRIBU_ACCURATE_SENTIMENT).
os.environ.setdefault("TRIBU_ACCURATE_SENTIMENT", "0")

# Configuration messages follow the operator's locale (tribu/config.py); tests expect English
# whatever the developer's shell says.
os.environ.pop("LANGUAGE", None)
os.environ["LC_ALL"] = "C.UTF-8"
