#ifndef HERALD_CFREEXL_SHIM_H
#define HERALD_CFREEXL_SHIM_H
#include <freexl.h>
#endif
