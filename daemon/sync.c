#include "buildconf.h"
/* stub: being written */
