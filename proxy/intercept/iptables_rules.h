#pragma once

// The pod's interception rules (what `weft-proxy init` installs): inbound
// TCP redirected to the inbound listener, the app's outbound TCP to the
// outbound listener, the proxy's own traffic (by UID) and excluded ports and
// CIDRs left alone. Generated as iptables-restore input for the nat table so
// that they go in as one transaction.

#include <cstdint>
#include <string>
#include <vector>

namespace weft::intercept {

struct InterceptionConfig {
  int64_t proxy_uid = 1337;
  uint16_t outbound_port = 15001;
  uint16_t inbound_port = 15006;
  std::vector<uint16_t> exclude_inbound_ports;
  std::vector<uint16_t> exclude_outbound_ports;
  std::vector<std::string> exclude_outbound_cidrs;  // IPv4 or IPv6, per family
};

// `ipv6` selects the family (ip6tables-restore input); CIDRs of the other
// family are skipped.
std::string iptablesRestoreInput(const InterceptionConfig& config, bool ipv6);

// Parses the init command's arguments (after "init"); false with `error`.
bool parseInitArgs(int argc, char** argv, int first, InterceptionConfig* config, bool* dry_run,
                   std::string* restore_binary, std::string* error);

// Installs the rules with `restore_binary` (iptables-restore); the exit code.
int runInit(int argc, char** argv, int first);

}  // namespace weft::intercept
