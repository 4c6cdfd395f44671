/**
 * The labels in a mermaid SVG, one per <text> element. With SVG labels (`htmlLabels: false`) mermaid puts each
 * word of a label in its own <tspan>, the words after the first with their leading space, so joining a text
 * element's content gives the label back ("orders · before").
 */
export function svgLabels(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([\s\S]*?)<\/text>/g)]
    .map((m) => m[1]!.replace(/<[^>]*>/g, '').trim())
    .filter(Boolean);
}
