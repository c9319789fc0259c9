/// Every network btviz trains, one line each. A new model is one file that declares a `ModelDefinition` and one line
/// here; nothing else in the tree knows a model's id.
public enum ModelRegistry {
    public static let all: [ModelDefinition] = [.vgg6, .resnet, .restoration]

    public static var ids: [String] { all.map(\.id) }

    /// The definition with this id, or nil.
    public static func named(_ id: String) -> ModelDefinition? { all.first { $0.id == id } }

    /// The models for a task, in registry order; the first is the task's default.
    public static func models(for task: ModelTask) -> [ModelDefinition] { all.filter { $0.task == task } }

    /// Every model's options, each once, in registry order.
    public static var options: [ModelOption] {
        var seen = Set<String>(), out: [ModelOption] = []
        for d in all { for o in d.options where seen.insert(o.key).inserted { out.append(o) } }
        return out
    }

    public static func option(_ key: String) -> ModelOption? { options.first { $0.key == key } }
}
