#include "buildconf.h"
/* being written */
