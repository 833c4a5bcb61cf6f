#include "controlplane/ca/ca_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "common/base/file.h"

namespace weft::control::ca {

namespace {

// Created 0600 from the start (never briefly world-readable), never replaced.
bool writeNewFile(const std::string& path, const std::string& data, mode_t mode,
                  std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "cannot create " + path;
    return false;
  }
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) *error = "cannot write " + path;
  return ok;
}

}  // namespace

std::string checkPrivateKeyFileMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "cannot stat " + path;
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
    return "CA key " + path + " is readable by group or others (mode " + mode + "); chmod 600 it";
  }
  return "";
}

namespace {

// The CA's files: the operator's, or a root generated on first start in data_dir.
bool readCaFiles(const CaStoreOptions& options, std::string* cert_pem, std::string* key_pem,
                 std::string* origin, std::string* error) {
  std::string cert_path = options.cert_path, key_path = options.key_path;
  if (cert_path.empty() != key_path.empty()) {
    *error = "--ca-cert and --ca-key go together";
    return false;
  }
  if (cert_path.empty()) {
    if (options.data_dir.empty()) {
      *error = "the CA needs --ca-cert/--ca-key or a --data-dir to keep a generated root in";
      return false;
    }
    cert_path = options.data_dir + "/ca.pem";
    key_path = options.data_dir + "/ca.key";
    if (::access(cert_path.c_str(), F_OK) != 0 && ::access(key_path.c_str(), F_OK) != 0) {
      ::mkdir(options.data_dir.c_str(), 0700);
      auto root = security::CertificateAuthority::generateRoot(
          "weft mesh root (" + options.trust_domain + ")", 10LL * 365 * 86400, error);
      if (!root) return false;
      if (!writeNewFile(key_path, root->keyPem(), 0600, error) ||
          !writeNewFile(cert_path, root->certificatePem(), 0644, error)) {
        return false;
      }
      *origin = "generated, kept in " + options.data_dir;
    }
  }
  if (origin->empty()) *origin = cert_path + ", " + key_path;
  if (std::string why = checkPrivateKeyFileMode(key_path); !why.empty()) {
    *error = why;
    return false;
  }
  if (!common::readFile(cert_path, cert_pem)) {
    *error = "cannot read " + cert_path;
    return false;
  }
  if (!common::readFile(key_path, key_pem)) {
    *error = "cannot read " + key_path;
    return false;
  }
  return true;
}

}  // namespace

LoadedCa loadOrCreateCa(const CaStoreOptions& options, std::string* error) {
  LoadedCa out;
  std::string cert_pem, key_pem, chain_pem;
  if (!options.cert_pem.empty()) {
    cert_pem = options.cert_pem;
    key_pem = options.key_pem;
    out.origin = options.origin;
  } else if (!readCaFiles(options, &cert_pem, &key_pem, &out.origin, error)) {
    return out;
  }
  if (!options.chain_path.empty() && !common::readFile(options.chain_path, &chain_pem)) {
    *error = "cannot read " + options.chain_path;
    return out;
  }
  out.authority = security::CertificateAuthority::load(cert_pem, key_pem, chain_pem, error);
  if (!out.authority) return out;
  out.trust_bundle_pem = out.authority->rootPem();
  if (!options.extra_roots_path.empty()) {
    std::string extra;
    if (!common::readFile(options.extra_roots_path, &extra) ||
        security::parseCertificates(extra, error).empty()) {
      *error = "--ca-extra-roots " + options.extra_roots_path + ": " +
               (error->empty() ? "cannot read" : *error);
      out.authority.reset();
      return out;
    }
    out.trust_bundle_pem += extra;
  }
  return out;
}

}  // namespace weft::control::ca
