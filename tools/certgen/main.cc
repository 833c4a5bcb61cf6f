// certgen root  --cert OUT --key OUT [--name CN] [--days N]
// certgen issue --ca-cert F --ca-key F --cert OUT --key OUT
//               [--uri U]... [--dns D]... [--ip A]...
//               [--lifetime-s N] [--not-before-s OFFSET]   (negative: in the past)

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/base/file.h"
#include "security/certificate_authority.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: certgen root --cert OUT --key OUT [--name CN] [--days N]\n"
               "       certgen issue --ca-cert F --ca-key F --cert OUT --key OUT [--uri U]...\n"
               "                     [--dns D]... [--ip A]... [--lifetime-s N] "
               "[--not-before-s OFFSET]\n");
  return 2;
}

bool writeFile(const std::string& path, const std::string& data, bool secret) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (secret) ::chmod(path.c_str(), 0600);
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string command = argv[1];
  std::map<std::string, std::string> single;
  std::map<std::string, std::vector<std::string>> multi;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag.rfind("--", 0) != 0 || i + 1 >= argc) return usage();
    std::string value = argv[++i];
    if (flag == "--uri" || flag == "--dns" || flag == "--ip") {
      multi[flag].push_back(value);
    } else {
      single[flag] = value;
    }
  }
  if (!single.count("--cert") || !single.count("--key")) return usage();
  std::string error;
  if (command == "root") {
    long days = single.count("--days") ? std::atol(single["--days"].c_str()) : 3650;
    auto ca = weft::security::CertificateAuthority::generateRoot(
        single.count("--name") ? single["--name"] : "weft test root", days * 86400, &error);
    if (!ca) {
      std::fprintf(stderr, "certgen: %s\n", error.c_str());
      return 1;
    }
    return writeFile(single["--cert"], ca->certificatePem(), false) &&
                   writeFile(single["--key"], ca->keyPem(), true)
               ? 0
               : 1;
  }
  if (command != "issue") return usage();
  std::string ca_cert, ca_key;
  if (!weft::common::readFile(single["--ca-cert"], &ca_cert) ||
      !weft::common::readFile(single["--ca-key"], &ca_key)) {
    std::fprintf(stderr, "certgen: cannot read --ca-cert / --ca-key\n");
    return 1;
  }
  auto ca = weft::security::CertificateAuthority::load(ca_cert, ca_key, "", &error);
  if (!ca) {
    std::fprintf(stderr, "certgen: %s\n", error.c_str());
    return 1;
  }
  weft::security::IssueOptions options;
  options.uris = multi["--uri"];
  options.dns_names = multi["--dns"];
  options.ips = multi["--ip"];
  if (single.count("--lifetime-s")) options.lifetime_s = std::atoll(single["--lifetime-s"].c_str());
  if (single.count("--not-before-s")) {
    options.not_before_offset_s = std::atoll(single["--not-before-s"].c_str());
  }
  auto key = weft::security::generateP256Key();
  auto cert = ca->issue(key.get(), options, &error);
  if (!cert) {
    std::fprintf(stderr, "certgen: %s\n", error.c_str());
    return 1;
  }
  return writeFile(single["--cert"], weft::security::certificateToPem(cert.get()), false) &&
                 writeFile(single["--key"], weft::security::privateKeyToPem(key.get()), true)
             ? 0
             : 1;
}
