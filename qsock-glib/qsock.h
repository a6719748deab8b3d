/* qsock.h: the one header applications include
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define QSOCK_INSIDE

#include <gio/gio.h>

#include "qsock-version.h"
#include "qsock-types.h"
#include "qsock-enum-types.h"
#include "qsock-error.h"
#include "qsock-host-address.h"
#include "qsock-iodevice.h"
#include "qsock-abstract.h"
#include "qsock-tcp.h"
#include "qsock-tcp-server.h"
#include "qsock-datagram.h"
#include "qsock-udp.h"
#include "qsock-local.h"
#include "qsock-local-server.h"

#undef QSOCK_INSIDE
