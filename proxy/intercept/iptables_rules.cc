#include "proxy/intercept/iptables_rules.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace weft::intercept {
namespace {

bool parsePorts(const std::string& text, std::vector<uint16_t>* out) {
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    long port = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || port < 1 || port > 65535) return false;
    out->push_back(static_cast<uint16_t>(port));
    start = comma + 1;
  }
  return true;
}

std::vector<std::string> splitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Feeds `input` to `argv[0]`'s stdin; the exit status (or -1).
int runWithInput(const std::vector<std::string>& args, const std::string& input) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipefd[1]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[0]);
  if (rc != 0) {
    close(pipefd[1]);
    std::fprintf(stderr, "weft-proxy init: cannot run %s: %s\n", argv[0], std::strerror(rc));
    return -1;
  }
  size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(pipefd[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(pipefd[1]);
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string iptablesRestoreInput(const InterceptionConfig& config, bool ipv6) {
  const std::string uid = std::to_string(config.proxy_uid);
  const std::string loopback = ipv6 ? "::1/128" : "127.0.0.1/32";
  std::string out = "*nat\n";
  // Declaring the chains flushes them: a restarted init container (or a
  // second run) replaces the rules instead of stacking them.
  for (const char* chain : {"WEFT_INBOUND", "WEFT_IN_REDIRECT", "WEFT_OUTPUT", "WEFT_REDIRECT"}) {
    out += std::string(":") + chain + " - [0:0]\n";
  }
  out += "-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports " +
         std::to_string(config.inbound_port) + "\n";
  out += "-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports " + std::to_string(config.outbound_port) +
         "\n";

  // Inbound: every TCP connection to the pod, but the excluded ports.
  for (uint16_t port : config.exclude_inbound_ports) {
    out += "-A WEFT_INBOUND -p tcp --dport " + std::to_string(port) + " -j RETURN\n";
  }
  out += "-A WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT\n";

  // Outbound: the proxy's own connections leave as they are (or they would
  // loop back into it); so does traffic within the pod (loopback).
  out += "-A WEFT_OUTPUT -m owner --uid-owner " + uid + " -j RETURN\n";
  out += "-A WEFT_OUTPUT -o lo -j RETURN\n";
  out += "-A WEFT_OUTPUT -d " + loopback + " -j RETURN\n";
  for (uint16_t port : config.exclude_outbound_ports) {
    out += "-A WEFT_OUTPUT -p tcp --dport " + std::to_string(port) + " -j RETURN\n";
  }
  for (const auto& cidr : config.exclude_outbound_cidrs) {
    if ((cidr.find(':') != std::string::npos) != ipv6) continue;
    out += "-A WEFT_OUTPUT -d " + cidr + " -j RETURN\n";
  }
  out += "-A WEFT_OUTPUT -j WEFT_REDIRECT\n";
  out += "-A PREROUTING -p tcp -j WEFT_INBOUND\n";
  out += "-A OUTPUT -p tcp -j WEFT_OUTPUT\n";
  out += "COMMIT\n";
  return out;
}

bool parseInitArgs(int argc, char** argv, int first, InterceptionConfig* config, bool* dry_run,
                   std::string* restore_binary, std::string* error) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--dry-run") {
      *dry_run = true;
      continue;
    }
    if (i + 1 >= argc) {
      *error = arg + " needs a value";
      return false;
    }
    std::string value = argv[++i];
    std::vector<uint16_t> ports;
    if (arg == "--proxy-uid") {
      char* end = nullptr;
      config->proxy_uid = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || config->proxy_uid < 0) {
        *error = "--proxy-uid '" + value + "' is not a user id";
        return false;
      }
    } else if (arg == "--outbound-port" || arg == "--inbound-port") {
      if (!parsePorts(value, &ports) || ports.size() != 1) {
        *error = arg + " '" + value + "' is not a port";
        return false;
      }
      (arg == "--outbound-port" ? config->outbound_port : config->inbound_port) = ports[0];
    } else if (arg == "--exclude-inbound-ports" || arg == "--exclude-outbound-ports") {
      if (!parsePorts(value, &ports)) {
        *error = arg + " '" + value + "' is not a comma-separated list of ports";
        return false;
      }
      (arg == "--exclude-inbound-ports" ? config->exclude_inbound_ports
                                        : config->exclude_outbound_ports) = ports;
    } else if (arg == "--exclude-outbound-cidrs") {
      config->exclude_outbound_cidrs = splitCommas(value);
    } else if (arg == "--iptables-restore") {
      *restore_binary = value;
    } else {
      *error = "unknown argument '" + arg + "'";
      return false;
    }
  }
  return true;
}

int runInit(int argc, char** argv, int first) {
  InterceptionConfig config;
  bool dry_run = false;
  std::string restore = "iptables-restore";
  std::string error;
  if (!parseInitArgs(argc, argv, first, &config, &dry_run, &restore, &error)) {
    std::fprintf(stderr,
                 "weft-proxy init: %s\n"
                 "usage: weft-proxy init [--proxy-uid N] [--outbound-port N] [--inbound-port N]\n"
                 "       [--exclude-inbound-ports P,..] [--exclude-outbound-ports P,..]\n"
                 "       [--exclude-outbound-cidrs C,..] [--iptables-restore PATH] [--dry-run]\n",
                 error.c_str());
    return 2;
  }
  std::string rules = iptablesRestoreInput(config, false);
  if (dry_run) {
    std::fputs(rules.c_str(), stdout);
    return 0;
  }
  // Jumps from the built-in chains survive a chain flush: remove ours first
  // so a second run does not add them twice.
  std::string iptables = restore.size() > 8 && restore.substr(restore.size() - 8) == "-restore"
                             ? restore.substr(0, restore.size() - 8)
                             : "iptables";
  for (auto [chain, target] :
       {std::pair{"PREROUTING", "WEFT_INBOUND"}, std::pair{"OUTPUT", "WEFT_OUTPUT"}}) {
    while (runWithInput({iptables, "-t", "nat", "-D", chain, "-p", "tcp", "-j", target}, "") == 0) {
    }
  }
  int rc = runWithInput({restore, "--noflush"}, rules);
  if (rc != 0) {
    std::fprintf(stderr, "weft-proxy init: %s failed (exit %d) on:\n%s", restore.c_str(), rc,
                 rules.c_str());
    return 1;
  }
  std::printf(
      "weft-proxy init: interception installed (outbound -> :%u, inbound -> :%u, "
      "uid %lld excluded)\n",
      config.outbound_port, config.inbound_port, static_cast<long long>(config.proxy_uid));
  return 0;
}

}  // namespace weft::intercept
