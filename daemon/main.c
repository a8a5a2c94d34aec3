#include "buildconf.h"
int main(void) { return 0; }
