import RumABI

/// The ABI revision every image of this build announces ("abi N" in the
/// version line and in each guest's ready line); read from rumabi.h so a
/// revision bump does not need the expectations edited.
let abi = ABIRevision.current
