export { authenticate } from './authenticate';
export { checkAcl, fixupAcl, redactAcl, isSuper, DEFAULT_ACL_SCHEMES } from './check';
export { certificateSubject } from './x509name';
export { generateDigest, isValidDigestId } from './digest';
export { ipMatches, isValidIpAcl, addrToBytes } from './ip';
export { permString, aclString } from './perms';
