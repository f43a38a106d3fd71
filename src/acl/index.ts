export { authenticate } from './authenticate';
export { checkAcl, fixupAcl, redactAcl, isSuper } from './check';
export { generateDigest, isValidDigestId } from './digest';
export { ipMatches, isValidIpAcl, addrToBytes } from './ip';
export { permString, aclString } from './perms';
