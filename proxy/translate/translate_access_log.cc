#include "proxy/translate/translate_access_log.h"

#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"
#include "proxy/access_log/formatter.h"
#include "proxy/translate/translate_util.h"

namespace weft::translate {
namespace {

namespace file_v3 = envoy::extensions::access_loggers::file::v3;
namespace stream_v3 = envoy::extensions::access_loggers::stream::v3;
using envoy::config::core::v3::SubstitutionFormatString;

// The formatter `format` describes; none set: Envoy's default text format.
std::shared_ptr<const access_log::Formatter> formatterFor(const SubstitutionFormatString* format,
                                                          const std::string& fpath,
                                                          common::ErrorList& errors) {
  std::string error;
  std::unique_ptr<const access_log::Formatter> formatter;
  if (format == nullptr) {
    formatter = access_log::Formatter::text(access_log::kDefaultTextFormat, false, &error);
  } else if (!format->content_type().empty()) {
    errors.add(fpath + ".content_type", "has no effect on an access log");
    return nullptr;
  } else if (format->format_case() == SubstitutionFormatString::kTextFormat) {
    formatter =
        access_log::Formatter::text(format->text_format(), format->omit_empty_values(), &error);
  } else if (format->format_case() == SubstitutionFormatString::kTextFormatSource) {
    if (!format->text_format_source().has_inline_string()) {
      errors.add(fpath + ".text_format_source", "weft reads only inline_string here");
      return nullptr;
    }
    formatter = access_log::Formatter::text(format->text_format_source().inline_string(),
                                            format->omit_empty_values(), &error);
  } else if (format->format_case() == SubstitutionFormatString::kJsonFormat) {
    formatter =
        access_log::Formatter::json(format->json_format(), format->omit_empty_values(), &error);
  } else {
    errors.add(fpath, "needs text_format, text_format_source or json_format");
    return nullptr;
  }
  if (formatter == nullptr) {
    errors.add(fpath, error);
    return nullptr;
  }
  return formatter;
}

}  // namespace

bool translateAccessLogs(
    const google::protobuf::RepeatedPtrField<envoy::config::accesslog::v3::AccessLog>& logs,
    const std::string& path, access_log::AccessLogSinkFactory* sinks,
    std::vector<config::AccessLogConfig>* out, common::ErrorList& errors) {
  bool ok = true;
  for (int i = 0; i < logs.size(); ++i) {
    const auto& log = logs[i];
    std::string lpath = path + "[" + std::to_string(i) + "]";
    if (log.has_filter()) {
      errors.add(lpath + ".filter", "access-log filters are not implemented by weft");
      ok = false;
      continue;
    }
    if (!log.has_typed_config()) {
      errors.add(lpath + ".typed_config",
                 "is required (FileAccessLog, StdoutAccessLog or "
                 "StderrAccessLog)");
      ok = false;
      continue;
    }
    std::string type = typeName(log.typed_config());
    std::string target;
    const SubstitutionFormatString* format = nullptr;
    file_v3::FileAccessLog file;
    stream_v3::StdoutAccessLog out_log;
    stream_v3::StderrAccessLog err_log;
    std::string tpath = lpath + ".typed_config";
    if (type == file_v3::FileAccessLog::descriptor()->full_name()) {
      log.typed_config().UnpackTo(&file);
      if (file.path().empty()) {
        errors.add(tpath + ".path", "is required");
        ok = false;
        continue;
      }
      if (file.access_log_format_case() != file_v3::FileAccessLog::kLogFormat &&
          file.access_log_format_case() != file_v3::FileAccessLog::ACCESS_LOG_FORMAT_NOT_SET) {
        errors.add(tpath,
                   "format, json_format and typed_json_format are deprecated in Envoy; "
                   "weft reads log_format");
        ok = false;
        continue;
      }
      target = file.path();
      if (file.has_log_format()) format = &file.log_format();
    } else if (type == stream_v3::StdoutAccessLog::descriptor()->full_name()) {
      log.typed_config().UnpackTo(&out_log);
      target = "/dev/stdout";
      if (out_log.has_log_format()) format = &out_log.log_format();
    } else if (type == stream_v3::StderrAccessLog::descriptor()->full_name()) {
      log.typed_config().UnpackTo(&err_log);
      target = "/dev/stderr";
      if (err_log.has_log_format()) format = &err_log.log_format();
    } else {
      errors.add(tpath, "unsupported access logger '" + type +
                            "' (weft has FileAccessLog, StdoutAccessLog, StderrAccessLog)");
      ok = false;
      continue;
    }
    config::AccessLogConfig config;
    config.formatter = formatterFor(format, tpath + ".log_format", errors);
    if (config.formatter == nullptr) {
      ok = false;
      continue;
    }
    if (sinks == nullptr) {
      errors.add(lpath, "access logs cannot be written from here (no log files are opened)");
      ok = false;
      continue;
    }
    std::string error;
    config.sink = sinks->open(target, &error);
    if (config.sink == nullptr) {
      errors.add(tpath + ".path", error);
      ok = false;
      continue;
    }
    config.path = target;
    out->push_back(std::move(config));
  }
  return ok;
}

}  // namespace weft::translate
