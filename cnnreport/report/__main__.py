import sys

from cnnreport.report.build import main

sys.exit(main())
