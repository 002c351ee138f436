# The migration Job's program (python -c, argument: the service's package): Alembic upgrade to head of
# the migrations/ directory shipped in that package, as the service itself does at start.
import asyncio
import os
import sys
from importlib.resources import files
from pathlib import Path

from rcm.servicekit.db import upgrade

package = sys.argv[1]
asyncio.run(upgrade(os.environ["RCM_DATABASE_URL"], Path(str(files(package) / "migrations"))))
print(f"{package}: database at head")
