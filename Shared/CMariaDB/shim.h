#ifndef HERALD_CMARIADB_SHIM_H
#define HERALD_CMARIADB_SHIM_H
#include <mysql.h>
#endif
