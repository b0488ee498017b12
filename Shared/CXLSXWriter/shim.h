#ifndef HERALD_CXLSXWRITER_SHIM_H
#define HERALD_CXLSXWRITER_SHIM_H
#include <xlsxwriter.h>
#endif
