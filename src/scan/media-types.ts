// The media type of the SBOMs the scanner writes, in a module of its own: the scan job's light part needs it
// without loading the scanner's heavy parts (./engine.ts).
export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
