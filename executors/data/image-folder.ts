/**
 * A folder of images per class, as torchvision's ImageFolder reads it:
 * `<root>/train/<class>/<image>` and `<root>/test/<class>/<image>`, PNG or JPEG, classes in name
 * order. Registration (image-folder-inspect.ts) decides the channels over every image: one when all
 * are gray, three when any is colour.
 */

/** Lowercased extensions of the images read; other files in a class folder are ignored. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg']);

/** The most classes: labels are stored as bytes. */
export const MAX_CLASSES = 256;
