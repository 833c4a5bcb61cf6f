#pragma once

// Where the mesh CA's signing key comes from: files the operator provides
// (--ca-cert/--ca-key, optional --ca-chain), or a root generated on first
// start and kept under --data-dir. A key file others can read is refused.

#include <memory>
#include <string>

#include "security/certificate_authority.h"

namespace weft::control::ca {

struct CaStoreOptions {
  std::string cert_path;
  std::string key_path;
  std::string chain_path;
  std::string data_dir;
  // Roots trusted besides the CA's own (root rotation: old and new side by side).
  std::string extra_roots_path;
  std::string trust_domain = "cluster.local";
  // Already loaded (from a Kubernetes Secret): used instead of the files.
  std::string cert_pem;
  std::string key_pem;
  std::string origin;
};

struct LoadedCa {
  std::unique_ptr<security::CertificateAuthority> authority;
  std::string trust_bundle_pem;  // the CA's root plus the extra roots
  std::string origin;            // for the log: which files, or "generated"
};

// nullopt-like: `authority` null with `error` set.
LoadedCa loadOrCreateCa(const CaStoreOptions& options, std::string* error);

// "" when `path` is readable by its owner only; else why not.
std::string checkPrivateKeyFileMode(const std::string& path);

}  // namespace weft::control::ca
