// Version: the host tool's version, kept equal to the hypervisor's (Hypervisor/Core/Hypervisor.swift).
public let version = "0.1.0"
