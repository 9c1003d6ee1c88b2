"""``python -m pycontract.worker REQ_FD RESP_FD LEDGER CHAIN_ID LIMITS_JSON`` (started by the host)."""

import sys

from pycontract.worker.process import main

sys.exit(main())
