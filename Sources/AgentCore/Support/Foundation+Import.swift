// AgentCore only needs the small "essentials" part of Foundation (JSON, UUID, Data).
// Importing FoundationEssentials where it exists keeps ICU data out of the binary.
#if canImport(FoundationEssentials)
@_exported import FoundationEssentials
#else
@_exported import Foundation
#endif
