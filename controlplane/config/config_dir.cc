#include "controlplane/config/config_dir.h"

#include <dirent.h>

#include <algorithm>
#include <vector>

#include "common/base/file.h"
#include "controlplane/config/parser.h"
#include "controlplane/config/validate.h"

namespace weft::control {

ConfigSet loadConfigDir(const std::string& dir, const ConfigSet* previous) {
  ConfigSet set;
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      std::string name = entry->d_name;
      auto ends = [&](const std::string& suffix) {
        return name.size() > suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      };
      if (name[0] != '.' && (ends(".yaml") || ends(".yml"))) files.push_back(name);
    }
    closedir(d);
  } else {
    set.errors.push_back({dir, "", "", "cannot read the config directory"});
    return set;
  }
  std::sort(files.begin(), files.end());
  for (const auto& name : files) {
    std::string path = dir + "/" + name;
    std::string text;
    if (!common::readFile(path, &text)) {
      set.errors.push_back({path, "", "", "cannot read the file"});
      continue;
    }
    parseYamlDocuments(text, path, set);
  }
  validateConfig(set);
  keepLastValidVersions(set, previous);
  return set;
}

}  // namespace weft::control
