/* windows-network: what Azure's networking and diagnostics need (the
 * "Check the Windows services" and related steps of Microsoft's VHD
 * preparation guide, done in the registry): DHCP client and the network
 * services automatic, persistent static routes removed, the WinHTTP
 * proxy reset to direct, the clock in UTC, crash dumps kept with
 * AutoReboot off so that a stop code stays on the serial console. */
#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

/* netsh winhttp reset proxy: direct access; 0x18 = never configured. */
static const unsigned char winhttp_reset[] = {
  0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
static const unsigned char winhttp_never[] = {
  0x18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

#define AUTO(svc) \
  { "windows-service-start", HIVE_SYSTEM, "Services\\" svc, "Start", \
    WIN_DWORD, 2, .flags = WIN_IF_KEY, \
    .why = "service " svc " is not Automatic" }
#define MANUAL(svc) \
  { "windows-service-start", HIVE_SYSTEM, "Services\\" svc, "Start", \
    WIN_DWORD, 3, .flags = WIN_IF_KEY | WIN_IF_DISABLED, \
    .why = "service " svc " is disabled" }

static const struct win_reg rows[] = {
  AUTO ("Dhcp"), AUTO ("BFE"), AUTO ("Dnscache"), AUTO ("IKEEXT"),
  AUTO ("iphlpsvc"), AUTO ("nsi"), AUTO ("mpssvc"), AUTO ("RemoteRegistry"),
  AUTO ("W32Time"), MANUAL ("Netlogon"), MANUAL ("Netman"),
  MANUAL ("WerSvc"),
  { "windows-static-route", HIVE_SYSTEM,
    "Services\\Tcpip\\Parameters\\PersistentRoutes", NULL, WIN_DELETE_ALL,
    .why = "persistent static route (the Azure network differs)" },
  { "windows-utc-clock", HIVE_SYSTEM, "Control\\TimeZoneInformation",
    "RealTimeIsUniversal", WIN_DWORD, 1, .flags = WIN_QWORD_OK,
    .why = "the hardware clock is not read as UTC (Azure's is UTC)" },
  { "windows-crash-dump", HIVE_SYSTEM, "Control\\CrashControl",
    "CrashDumpEnabled", WIN_DWORD, 2, .why = "kernel crash dump is off" },
  { "windows-crash-dump", HIVE_SYSTEM, "Control\\CrashControl",
    "NMICrashDump", WIN_DWORD, 1, .why = "NMI crash dump is off" },
  { "windows-crash-dump", HIVE_SYSTEM, "Control\\CrashControl",
    "AutoReboot", WIN_DWORD, 0,
    .why = "a stop error reboots at once (its code is lost)" },
  { "windows-crash-dump", HIVE_SYSTEM, "Control\\CrashControl",
    "DumpFile", WIN_EXPAND_SZ, .str = "%SystemRoot%\\MEMORY.DMP",
    .why = "crash dump file" },
  { "windows-winhttp-proxy", HIVE_SOFTWARE,
    "Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections",
    "WinHttpSettings", WIN_BINARY, .bin = winhttp_reset,
    .binlen = sizeof winhttp_reset, .flags = WIN_IF_VALUE,
    .alt = winhttp_never, .altlen = sizeof winhttp_never,
    .why = "a WinHTTP proxy is set (it would block the Azure agent)" },
};

WIN_TABLE_FIXUP_FUNCS (network, "windows-network", rows)

static const struct fixup windows_network = {
  .name = "windows-network",
  .heading = "DHCP and network services, no static routes or proxy, "
             "UTC clock, crash dumps",
  .order = 200,
  .guests = FIXUP_WINDOWS,
  .applies = win_not_refused,
  .check = network_check,
  .apply = network_apply,
};
FIXUP (windows_network);
