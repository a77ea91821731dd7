import sys

from mlops_course.cli import main

sys.exit(main())
